"""Sub-commands of the ``deepobs`` command line, one module each (see ``cli.COMMANDS``)."""
