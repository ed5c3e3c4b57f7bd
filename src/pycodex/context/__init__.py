"""What the model sees (layer L2): base instructions, initial context messages and the conversation
history.
"""
