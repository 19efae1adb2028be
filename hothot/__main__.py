import sys

from hothot.cli import main

sys.exit(main())
