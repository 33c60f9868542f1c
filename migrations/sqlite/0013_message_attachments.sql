-- Documents attached to a user's message: which files, and the text of theirs the model was given.
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
