"""Live chat with a care coordinator (docs/live-chat.md): the store, the event broker and feed,
the inbox's calls to Rasa's API, and what the channels do while a person is in the chat."""
