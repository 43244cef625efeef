"""RoPE on adjacent pairs with sin/cos computed in software from the position."""
