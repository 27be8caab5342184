"""The project's own NLP: the spaCy pipeline builder and Rasa components that use it."""
