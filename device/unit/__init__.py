"""The unit's runtime: configuration, peripherals by URL, the single controller thread, launch."""
