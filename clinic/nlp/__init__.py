"""The project's own NLP: the spaCy pipeline builder and the Rasa components that use it (developers;
the words and patterns they use are editors' and clinicians' files in content/)."""
