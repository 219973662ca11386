"""The station: its state machine (declared as data), the controller, the event catalog and the printed slips."""
