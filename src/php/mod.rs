//! The ext-php-rs binding: converts PHP values and errors, makes no decisions.
