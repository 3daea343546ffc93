"""The Playground: a page configuration turned into a network and data, and one frame of what it draws."""
