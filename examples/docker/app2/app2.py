def predict(list_items):
    """Returns the square of the items"""
    return [i**2 for i in list_items]
