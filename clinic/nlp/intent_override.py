"""One way for a decision after the answer classifier to replace its intent.

The scope decision, the safety decision and the contact-details guard all overrule the answer
classifier. Each must set the intent, put it first in the ranking and clear the answer the
classifier chose, or Rasa's `utter_faq` would still send that answer.
"""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str, confidence: float, keep_ranking: bool = True) -> None:
    """`name` becomes the intent; the others stay ranked after it unless `keep_ranking` is False."""
    top = {"name": name, "confidence": confidence}
    others = [r for r in message.get("intent_ranking") or [] if r["name"] != name] if keep_ranking else []
    message.set(INTENT, top, add_to_output=True)
    message.set("intent_ranking", [top, *others], add_to_output=True)
    message.set("response_selector", {}, add_to_output=True)
