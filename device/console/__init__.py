"""The operator console (Textual): one screen per situation, actions by key and button with PINs."""
