"""Flask-WTF forms for the inbox; each carries a CSRF token checked on every POST."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from clinic.handoff.requests import MAX_NOTE_LENGTH


class SignInForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Sign in")


class NoteForm(FlaskForm):
    text = TextAreaField("Add a note", validators=[DataRequired(), Length(max=MAX_NOTE_LENGTH)])
    submit = SubmitField("Add note")


class ActionForm(FlaskForm):
    """Claim, resolve and sign out: a button whose only data is the CSRF token."""

    submit = SubmitField("Confirm")


# ----------------------------------------------------------------- live chat (docs/live-chat.md)


class AvailabilityForm(FlaskForm):
    """Available / Away: ``available`` is "1" or "0" (the button pressed)."""

    available = HiddenField(validators=[AnyOf(["0", "1"])])


class DisplayNameForm(FlaskForm):
    name = StringField("Your name in the chat", validators=[Optional(), Length(max=40)])


class LiveMessageForm(FlaskForm):
    text = TextAreaField("Your reply", validators=[DataRequired(), Length(max=2000)])


class CloseChatForm(FlaskForm):
    note = TextAreaField(
        "Note for the record (optional)", validators=[Optional(), Length(max=MAX_NOTE_LENGTH)]
    )
