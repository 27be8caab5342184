"""Long messages are read sentence by sentence, and answered on the part that asks."""

from __future__ import annotations

from clinic.nlp.segments import MAX_SEGMENTS, MAX_WORDS, asks, question_segments, split_segments


def test_sentences_become_segments() -> None:
    text = "Hi, I'm 64. My knee hurts a lot!\nWhich way is safer, the drip or the shot?"
    assert split_segments(text) == [
        "Hi, I'm 64.",
        "My knee hurts a lot!",
        "Which way is safer, the drip or the shot?",
    ]


def test_a_long_run_without_punctuation_is_cut_into_sentence_sized_pieces() -> None:
    words = [f"w{i}" for i in range(MAX_WORDS * 2 + MAX_WORDS // 2)]
    pieces = split_segments(" ".join(words))
    assert [len(p.split()) for p in pieces] == [MAX_WORDS, MAX_WORDS, MAX_WORDS // 2]
    assert " ".join(pieces) == " ".join(words)  # nothing lost


def test_a_short_tail_stays_with_the_words_before_it() -> None:
    words = [f"w{i}" for i in range(MAX_WORDS + 3)]
    assert split_segments(" ".join(words)) == [" ".join(words)]


def test_the_number_of_segments_is_bounded_keeping_the_first_and_the_last() -> None:
    sentences = [f"Sentence number {i}." for i in range(MAX_SEGMENTS * 3)]
    pieces = split_segments(" ".join(sentences))
    assert len(pieces) == MAX_SEGMENTS
    assert pieces[0] == sentences[0] and pieces[-1] == sentences[-1]


def test_empty_text_has_no_segments() -> None:
    assert split_segments("   \n ") == []


def test_the_question_is_what_asks_and_a_statement_is_its_own_question() -> None:
    segments = ["I'm 70 and my hips are bad.", "what are the risks of the iv", "Thanks a lot."]
    assert question_segments(segments) == ["what are the risks of the iv"]
    assert asks("is it safe") and asks("Tell me about the drip") and not asks("My knee is sore.")
    assert question_segments(["My knee is sore."]) == ["My knee is sore."]


def test_pieces_without_a_letter_are_not_segments() -> None:
    text = "😀 " * 60 + ". 12345 678 !!! . What does the knee injection cost?"
    assert split_segments(text) == ["What does the knee injection cost?"]
    assert split_segments("🙂🙂🙂 ... 555-0100") == []
