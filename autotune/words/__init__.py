"""The words autotune writes, in English and Chinese: report sentences, figure labels, seed-format tables."""
