"""`python -m bot` is the `bot` console script."""

from bot.cli import main

raise SystemExit(main())
