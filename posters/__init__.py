"""Pictures that carry a group out of the app: the poster (with its mini-program code) and the
mini-program card's thumbnail. Drawn with Pillow at the edge; the domain never imports this."""
