"""The clinic assistant's own code, everything but Rasa's custom actions (actions/): developers edit it."""
