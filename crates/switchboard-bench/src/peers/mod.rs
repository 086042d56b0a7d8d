//! Chat targets no one here wrote, installed from the package registries.
