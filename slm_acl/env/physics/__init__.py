"""Box2D physics shared by the lab's worlds: user data, contacts, lidars, water and climbing."""
