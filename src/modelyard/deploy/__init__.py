"""Deployment packages: a variant plus a stand-alone predict.py that needs only openvino, numpy and pillow."""

from __future__ import annotations

from modelyard.deploy.package import DeploymentPackage, build_deployment_package, deployment_config

__all__ = ["DeploymentPackage", "build_deployment_package", "deployment_config"]
