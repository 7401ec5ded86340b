from talkingub.cli import main

main()
