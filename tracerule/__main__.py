from tracerule.cli import main

raise SystemExit(main())
