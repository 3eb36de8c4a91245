from darl.cli.main import main

main()
