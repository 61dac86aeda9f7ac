"""What a run trains on and what it shows: the built-in datasets, 2-D point sets, a person's images and image
pairs, loaded as arrays, and pictures made from arrays.

Owns: data (the dataset registry and loading), image_collection (a person's folder or zip of images),
image_pairs (inputs derived from images, and uploaded pairs), point_sets (a person's 2-D points), comparison (real
and generated examples laid out alike), images (grids, scatter plots, GIFs and PNG bytes). May import: gan_core.store,
gan_core.spec.
"""
