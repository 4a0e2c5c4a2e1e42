print("relsync-bench: being written")
