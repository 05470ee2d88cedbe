import sys

from events.cli import main

sys.exit(main())
