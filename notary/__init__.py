"""The notary: uniqueness providers, the replica service and its wire protocol."""
