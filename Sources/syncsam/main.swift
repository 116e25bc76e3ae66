print("syncsam")
