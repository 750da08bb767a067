"""`python -m bot` is the same as the `sopbot` command."""

from bot.cli import main

raise SystemExit(main())
