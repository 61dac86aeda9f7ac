"""The Playground, after GAN Lab: a GAN on 2-D points trained on command from its page, with the discriminator's
field, the generator's map and the points' paths as numbers the page draws.

Owns: playground (what the views show, as numbers), playground_store (commands in, snapshots out, through the run
directory), playground_trainer (the trainer driven by those commands). May import: gan_core.training and every layer
below it; never gan_core.workers, which sits beside it.
"""
