"""Run Parsl workers inside Docker, Podman or Singularity containers"""
