"""Typed queries over the tables; the only layer that speaks SQL. Functions take the transaction's connection."""
