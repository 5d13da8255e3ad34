from goftogu.cli import main

main()
