// The sandbox page: shows what one person sees in one chat, acts as them, moves the bot's clock.
// Every word comes from the server (the bot's catalogues); this file holds none of its own.
"use strict";

const view = { person: "ayu", chat: "bot" };
const seen = {}; // "person/chat" -> the latest message id looked at
let words = {};
let botUsername = "";
let loading = false;
let again = false;
let shownKey = "";

const $ = (id) => document.getElementById(id);

function readHash() {
  const [person, chat] = location.hash.slice(1).split("/");
  if (person) view.person = person;
  if (chat === "bot" || chat === "group") view.chat = chat;
}

function writeHash() {
  history.replaceState(null, "", `#${view.person}/${view.chat}`);
}

async function call(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || "failed");
  return answer;
}

let toastTimer = 0;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
}

function alertBox(text) {
  $("alert-text").textContent = text;
  $("alert").hidden = false;
}

function failed(error) {
  toast(words[error.message] || words.failed || error.message);
}

// A link to the bot itself (t.me/<bot>?start=…) opens its chat and starts it, as Telegram does.
function botLink(url) {
  try {
    const link = new URL(url);
    const name = link.pathname.replace(/^\//, "").toLowerCase();
    if (link.hostname !== "t.me" || name !== botUsername.toLowerCase()) return null;
    const payload = link.searchParams.get("start");
    return payload ? `/start ${payload}` : "/start";
  } catch {
    return null;
  }
}

async function follow(url) {
  const command = botLink(url);
  if (command === null) {
    window.open(url, "_blank", "noopener");
    return;
  }
  view.chat = "bot";
  writeHash();
  await say(command);
}

async function say(text) {
  try {
    await call("/sandbox/api/send", { person: view.person, chat: view.chat, text });
  } catch (error) {
    failed(error);
  }
  refresh();
}

async function tap(message, row, column) {
  try {
    const { answer } = await call("/sandbox/api/tap", {
      person: view.person, chat: view.chat, message, row, column,
    });
    if (answer && answer.text) {
      if (answer.alert) alertBox(answer.text); else toast(answer.text);
    }
    if (answer && answer.url) await follow(answer.url);
  } catch (error) {
    failed(error);
  }
}

// The server renders Telegram HTML from the message's entities; links still get a look here.
function body(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  for (const link of template.content.querySelectorAll("a")) {
    const href = link.getAttribute("href") || "";
    link.removeAttribute("href");
    if (href.startsWith("command:")) {
      link.href = "#";
      link.addEventListener("click", (event) => { event.preventDefault(); say(href.slice(8)); });
    } else if (/^https?:\/\//.test(href)) {
      link.href = href;
      link.addEventListener("click", (event) => { event.preventDefault(); follow(href); });
    }
  }
  return template.content;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function keyboard(message) {
  const rows = element("div", "keyboard");
  message.buttons.forEach((buttons, row) => {
    const line = element("div", "row");
    buttons.forEach((button, column) => {
      let key;
      if (button.url) {
        key = element("a", "", button.text);
        key.href = button.url;
        key.target = "_blank";
        key.rel = "noopener";
        key.addEventListener("click", (event) => { event.preventDefault(); follow(button.url); });
      } else {
        key = element("button", "", button.text);
        key.type = "button";
        key.addEventListener("click", () => tap(message.id, row, column));
      }
      line.append(key);
    });
    rows.append(line);
  });
  return rows;
}

function entry(message, group) {
  if (message.service) return element("div", "service", message.service);
  const wrapper = element("div", `entry${message.mine ? " mine" : ""}${message.bot ? " bot" : ""}`);
  wrapper.dataset.id = message.id;
  const bubble = element("div", "bubble");
  if (group && !message.mine) bubble.append(element("div", "sender", message.sender));
  if (message.reply) {
    const quote = element("div", "reply");
    quote.append(element("strong", "", message.reply.sender), element("div", "", message.reply.text));
    bubble.append(quote);
  }
  if (message.document) {
    const file = element("div", "document");
    const link = element("a", "", `${words.download} ${message.document.name}`);
    link.href = message.document.url;
    link.download = message.document.name;
    file.append(element("span", "", "📄"), link);
    bubble.append(file);
  }
  const text = element("div", "text");
  text.append(body(message.html));
  bubble.append(text);
  const meta = message.edited ? `${words.edited} · ${message.time}` : message.time;
  bubble.append(element("div", "meta", meta));
  wrapper.append(bubble);
  if (message.buttons.length) wrapper.append(keyboard(message));
  return wrapper;
}

function renderSide(state) {
  const people = $("people");
  people.replaceChildren(...state.people.map((person) => {
    const button = element("button", "person", person.name);
    button.type = "button";
    button.setAttribute("role", "tab");
    button.setAttribute("aria-selected", String(person.key === view.person));
    button.append(element("small", "", `${person.role} · ${person.language} · ${person.zone}`));
    button.addEventListener("click", () => { view.person = person.key; writeHash(); refresh(); });
    return button;
  }));
  const chats = $("chats");
  chats.replaceChildren(...state.chats.map((chat) => {
    const key = `${view.person}/${chat.key}`;
    if (seen[key] === undefined || chat.key === view.chat) seen[key] = chat.latest;
    const button = element("button", "chat", chat.title);
    button.type = "button";
    if (chat.latest > seen[key]) button.prepend(element("span", "dot"));
    button.setAttribute("aria-current", String(chat.key === view.chat));
    button.append(element("small", "", chat.subtitle));
    button.addEventListener("click", () => { view.chat = chat.key; writeHash(); refresh(); });
    return button;
  }));
}

function renderMessages(state) {
  const box = $("messages");
  const key = `${view.person}/${view.chat}`;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const nodes = [];
  let day = "";
  for (const message of state.messages) {
    if (message.day !== day) {
      day = message.day;
      nodes.push(element("div", "day", day));
    }
    nodes.push(entry(message, view.chat === "group"));
  }
  box.replaceChildren(...nodes);
  if (atBottom || key !== shownKey) box.scrollTop = box.scrollHeight;
  shownKey = key;
}

function render(state) {
  words = state.words;
  $("overlay-text").textContent = words.preparing;
  $("overlay").hidden = state.ready;
  $("you-are").textContent = words.you_are;
  $("forward-hour").textContent = words.hour;
  $("forward-day").textContent = words.day;
  $("forward-next").textContent = `⏰ ${words.next}`;
  $("reset").textContent = words.reset;
  $("send").textContent = words.send;
  $("text").placeholder = words.placeholder;
  $("clock-label").textContent = `${words.clock}:`;
  if (!state.ready) return;
  document.documentElement.lang = state.locale;
  botUsername = state.bot_username;
  $("clock").textContent = state.now;
  const chat = state.chats.find((item) => item.key === state.chat);
  $("chat-title").textContent = chat.title;
  $("chat-subtitle").textContent = chat.subtitle;
  renderSide(state);
  renderMessages(state);
}

// One request at a time; changes that come meanwhile ask for one more.
async function refresh() {
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    const query = new URLSearchParams(view);
    const response = await fetch(`/sandbox/api/state?${query}`);
    if (response.ok) render(await response.json());
    else if (response.status === 400) {
      view.person = "ayu";
      view.chat = "bot";
      writeHash();
      again = true;
    }
  } catch {
    toast(words.unreachable || "…");
  } finally {
    loading = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

async function forward(by) {
  try {
    const { moved } = await call("/sandbox/api/forward", { by });
    toast(moved ? words.moved : words.nothing_due);
  } catch (error) {
    failed(error);
  }
}

async function reset() {
  if (!window.confirm(words.reset_confirm)) return;
  $("overlay").hidden = false;
  try {
    await call("/sandbox/api/reset", {});
  } catch (error) {
    failed(error);
  }
  refresh();
}

function start() {
  readHash();
  writeHash();
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    $("text").value = "";
    say(text);
  });
  for (const button of document.querySelectorAll("[data-forward]")) {
    button.addEventListener("click", () => forward(button.dataset.forward));
  }
  $("reset").addEventListener("click", reset);
  $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });
  window.addEventListener("hashchange", () => { readHash(); refresh(); });
  new EventSource("/sandbox/api/changes").onmessage = refresh;
  refresh();
}

start();
