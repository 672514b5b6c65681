"""Transfer from the source domain: pre-train then fine-tune (PTF), target only (DFT), joint (JT), target choice."""
