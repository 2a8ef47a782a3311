"""What the platform tells a person (a task handed to them, a card to their department), and the
outbound channel (SMS or the center's messaging) behind an outbox."""
