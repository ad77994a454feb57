"""Domain types shared by every engine layer: messages, errors and enums."""
