"""While a coordinator is in the chat: the assistant is silent, but safety never pauses.

A join appends Rasa's ``ConversationPaused`` (docs/live-chat.md): Rasa still logs each visitor
message with its NLU parse (the safety decision included), but predicts no action. The channels
send their "something went wrong" apology when a message got no reply at all, so they ask here
first: a paused conversation's silence is expected, and an emergency or crisis message gets its
911 / 988 reply at once, as in any other state. The replies are Rasa's own responses, run as
actions, so they are logged like any other (the inbox's feed raises the alert from them).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.channel import OutputChannel
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.constants import ACTION_LISTEN_NAME

logger = logging.getLogger(__name__)

SAFETY_REPLIES = {
    "emergency": ("utter_emergency",),
    "crisis": ("utter_crisis",),
    "emergency_and_crisis": ("utter_emergency", "utter_crisis"),
}


def safety_replies(intent: str | None) -> tuple[str, ...]:
    return SAFETY_REPLIES.get(intent or "", ())


async def handled_while_paused(agent: Any, sender_id: str, output: OutputChannel) -> bool:
    """True when the conversation is paused (no apology is due); a safety reply is sent first.

    Called only for a message that got no reply, so ordinary messages pay nothing for it."""
    if agent is None or agent.tracker_store is None:
        return False
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None or not tracker.is_paused():
            return False
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        replies = safety_replies(intent)
        # Then listen, as Rasa's prediction loop would: the conversation's turns stay well formed,
        # so the rules match again once the assistant takes over.
        for action in (*replies, ACTION_LISTEN_NAME) if replies else ():
            prediction = PolicyPrediction.for_action_name(agent.domain, action)
            await agent.processor.execute_action(sender_id, action, output, agent.nlg, prediction)
        if replies:
            logger.info("Safety reply sent during a live chat (%s)", intent)
    return True
