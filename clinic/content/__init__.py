"""Curated content: the article, the topic files editors write, and what is built from them."""
