"""Execution providers, channels and launchers for Parsl: batch schedulers, clouds, SSH"""
