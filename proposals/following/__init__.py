"""Following proposals, sections and strategies, and what it brings: notifications."""
