"""The election as the authority defines it: definition and hash, voter roll, identity documents, voter pseudonyms."""
