"""``python -m bokji``."""

from bokji.cli import main

raise SystemExit(main())
