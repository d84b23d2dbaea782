"""Narrative extraction: LLM response models, evidence grounding, prompts, rules."""
