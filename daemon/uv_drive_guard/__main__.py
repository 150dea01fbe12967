from uv_drive_guard.cli import main

raise SystemExit(main())
