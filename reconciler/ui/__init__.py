"""Views: what people read (plan text and Markdown, state and outputs, apply progress) and the
consoles it is printed on. Views format; they decide nothing and read no file."""
