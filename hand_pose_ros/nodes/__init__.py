"""Thin rclpy nodes: convert messages (ros layer), call one core function, publish messages."""
