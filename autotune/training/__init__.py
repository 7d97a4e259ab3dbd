"""Models and the training loop as plain PyTorch. Nothing here knows about Optuna."""
