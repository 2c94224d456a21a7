from seccomp_jail.cli.main import main

raise SystemExit(main())
