process_worker --url 'tcp://127.0.0.1:5000' "$HOME"
