"""The API's data shapes: request models, stored records, response models."""
