from seccomp_jail.cli.main import entry

entry()
